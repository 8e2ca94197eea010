//! Line echo over loopback with asyncio-style streams: 50 connections × 200 round trips of
//! a 64-byte line per iteration. corio uses `start_server` / `open_connection` with
//! `readline`, `write` and `drain`; tokio uses `BufReader::read_line` and `write_all` on
//! the split halves of its `TcpStream`, async-std the same on a cloned `TcpStream`
//! (smol's row is not written: `–`). Each echo server is started once, outside the
//! timing, on the same shared runtime as its clients; connecting is part of each
//! iteration. Both sides set `TCP_NODELAY` (corio's streams do so by themselves, as
//! asyncio's do).

use std::net::SocketAddr;
use std::sync::OnceLock;

use crate::runtimes::{self, AsyncStd, Corio, Rt, Tokio};
use crate::{time_iters, Workload};

const CONNS: usize = 50;
const ROUNDS: usize = 200;

/// 63 bytes and a newline.
fn line() -> Vec<u8> {
    let mut l = vec![b'x'; 63];
    l.push(b'\n');
    l
}

fn corio_server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        runtimes::corio().block_on(async {
            let server = corio::net::start_server(
                |mut r: corio::net::StreamReader, w: corio::net::StreamWriter| async move {
                    loop {
                        let line = match r.readline().await {
                            Ok(line) if !line.is_empty() => line,
                            _ => break,
                        };
                        w.write(&line);
                        if w.drain().await.is_err() {
                            break;
                        }
                    }
                },
                "127.0.0.1:0",
            )
            .await
            .unwrap();
            server.local_addr()
        })
    })
}

fn tokio_server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        runtimes::tokio().block_on(async {
            use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap();
            tokio::spawn(async move {
                while let Ok((s, _)) = l.accept().await {
                    s.set_nodelay(true).unwrap();
                    tokio::spawn(async move {
                        let (rd, mut wr) = s.into_split();
                        let mut rd = BufReader::new(rd);
                        let mut line = String::new();
                        loop {
                            line.clear();
                            match rd.read_line(&mut line).await {
                                Ok(n) if n > 0 => {}
                                _ => break,
                            }
                            if wr.write_all(line.as_bytes()).await.is_err() {
                                break;
                            }
                        }
                    });
                }
            });
            addr
        })
    })
}

fn async_std_server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        runtimes::async_std();
        async_std::task::block_on(async {
            use async_std::io::prelude::BufReadExt;
            use async_std::io::{BufReader, WriteExt};
            let l = async_std::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap();
            let addr = l.local_addr().unwrap();
            async_std::task::spawn(async move {
                while let Ok((s, _)) = l.accept().await {
                    s.set_nodelay(true).unwrap();
                    async_std::task::spawn(async move {
                        let mut wr = s.clone();
                        let mut rd = BufReader::new(s);
                        let mut line = String::new();
                        loop {
                            line.clear();
                            match rd.read_line(&mut line).await {
                                Ok(n) if n > 0 => {}
                                _ => break,
                            }
                            if wr.write_all(line.as_bytes()).await.is_err() {
                                break;
                            }
                        }
                    });
                }
            });
            addr
        })
    })
}

/// The streams workloads (in the `net` area).
pub fn workloads() -> Vec<Workload> {
    vec![Workload::new("net", "streams_line_echo_50x200x64B")
        .variant("corio", |iters| {
            let addr = corio_server();
            time_iters(iters, || {
                runtimes::corio().block_on(async {
                    let clients: Vec<_> = (0..CONNS)
                        .map(|_| {
                            Corio::spawn_inside(async move {
                                let (mut r, w) = corio::net::open_connection(addr).await.unwrap();
                                let msg = line();
                                for _ in 0..ROUNDS {
                                    w.write(&msg);
                                    w.drain().await.unwrap();
                                    let echo = r.readline().await.unwrap();
                                    assert_eq!(echo.len(), msg.len());
                                }
                            })
                        })
                        .collect();
                    for t in clients {
                        t.await.unwrap();
                    }
                })
            })
        })
        .variant("tokio", |iters| {
            let addr = tokio_server();
            time_iters(iters, || {
                runtimes::tokio().block_on(async {
                    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
                    let clients: Vec<_> = (0..CONNS)
                        .map(|_| {
                            Tokio::spawn_inside(async move {
                                let s = tokio::net::TcpStream::connect(addr).await.unwrap();
                                s.set_nodelay(true).unwrap();
                                let (rd, mut wr) = s.into_split();
                                let mut rd = BufReader::new(rd);
                                let msg = String::from_utf8(line()).unwrap();
                                let mut echo = String::new();
                                for _ in 0..ROUNDS {
                                    wr.write_all(msg.as_bytes()).await.unwrap();
                                    echo.clear();
                                    rd.read_line(&mut echo).await.unwrap();
                                    assert_eq!(echo.len(), msg.len());
                                }
                            })
                        })
                        .collect();
                    for t in clients {
                        t.await.unwrap();
                    }
                })
            })
        })
        .variant("async-std", |iters| {
            let addr = async_std_server();
            time_iters(iters, || {
                AsyncStd::get().block_on(async {
                    use async_std::io::prelude::BufReadExt;
                    use async_std::io::{BufReader, WriteExt};
                    let clients: Vec<_> = (0..CONNS)
                        .map(|_| {
                            AsyncStd::spawn_inside(async move {
                                let s = async_std::net::TcpStream::connect(addr).await.unwrap();
                                s.set_nodelay(true).unwrap();
                                let mut wr = s.clone();
                                let mut rd = BufReader::new(s);
                                let msg = String::from_utf8(line()).unwrap();
                                let mut echo = String::new();
                                for _ in 0..ROUNDS {
                                    wr.write_all(msg.as_bytes()).await.unwrap();
                                    echo.clear();
                                    rd.read_line(&mut echo).await.unwrap();
                                    assert_eq!(echo.len(), msg.len());
                                }
                            })
                        })
                        .collect();
                    for t in clients {
                        t.await;
                    }
                })
            })
        })]
}
