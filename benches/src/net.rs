//! TCP echo over loopback: 50 connections × 200 (and × 2 000) round trips of 64 B per
//! iteration, on corio, tokio, smol and async-std. The echo server (a spawned accept loop with a task
//! per connection) runs on the same shared runtime as the clients and is started once,
//! outside the timing; connecting is part of each iteration.

use std::net::SocketAddr;
use std::sync::OnceLock;

use crate::runtimes::{self, AsyncStd, Corio, Rt, Smol, Tokio};
use crate::{time_iters, Workload};

const CONNS: usize = 50;
const MSG: usize = 64;

fn corio_server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        runtimes::corio().block_on(async {
            let l = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap();
            drop(corio::spawn(async move {
                while let Ok((mut s, _)) = l.accept().await {
                    s.set_nodelay(true).unwrap();
                    drop(corio::spawn(async move {
                        let mut buf = [0u8; MSG];
                        while s.read_exact(&mut buf).await.is_ok() {
                            if s.write_all(&buf).await.is_err() {
                                break;
                            }
                        }
                    }));
                }
            }));
            addr
        })
    })
}

fn tokio_server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        runtimes::tokio().block_on(async {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap();
            tokio::spawn(async move {
                while let Ok((mut s, _)) = l.accept().await {
                    s.set_nodelay(true).unwrap();
                    tokio::spawn(async move {
                        let mut buf = [0u8; MSG];
                        while s.read_exact(&mut buf).await.is_ok() {
                            if s.write_all(&buf).await.is_err() {
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

fn smol_server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let ex = runtimes::smol();
        smol::block_on(async {
            use smol::io::{AsyncReadExt, AsyncWriteExt};
            let l = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap();
            ex.spawn(async move {
                while let Ok((mut s, _)) = l.accept().await {
                    s.set_nodelay(true).unwrap();
                    ex.spawn(async move {
                        let mut buf = [0u8; MSG];
                        while s.read_exact(&mut buf).await.is_ok() {
                            if s.write_all(&buf).await.is_err() {
                                break;
                            }
                        }
                    })
                    .detach();
                }
            })
            .detach();
            addr
        })
    })
}

fn async_std_server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        runtimes::async_std();
        async_std::task::block_on(async {
            use async_std::io::{ReadExt, WriteExt};
            let l = async_std::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap();
            let addr = l.local_addr().unwrap();
            async_std::task::spawn(async move {
                while let Ok((mut s, _)) = l.accept().await {
                    s.set_nodelay(true).unwrap();
                    async_std::task::spawn(async move {
                        let mut buf = [0u8; MSG];
                        while s.read_exact(&mut buf).await.is_ok() {
                            if s.write_all(&buf).await.is_err() {
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

/// The network workloads.
pub fn workloads() -> Vec<Workload> {
    vec![
        echo(Workload::new("net", "tcp_echo_50x200x64B"), 200),
        echo(Workload::new("net", "tcp_echo_50x2000x64B"), 2_000),
    ]
}

/// `w` with one variant per runtime: [`CONNS`] clients each doing `rounds` round trips.
fn echo(w: Workload, rounds: usize) -> Workload {
    w.variant("corio", move |iters| {
        let addr = corio_server();
        time_iters(iters, || {
            runtimes::corio().block_on(async {
                let clients: Vec<_> = (0..CONNS)
                    .map(|_| {
                        Corio::spawn_inside(async move {
                            let mut s = corio::net::TcpStream::connect(addr).await.unwrap();
                            s.set_nodelay(true).unwrap();
                            let mut buf = [7u8; MSG];
                            for _ in 0..rounds {
                                s.write_all(&buf).await.unwrap();
                                s.read_exact(&mut buf).await.unwrap();
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
    .variant("tokio", move |iters| {
        let addr = tokio_server();
        time_iters(iters, || {
            runtimes::tokio().block_on(async {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let clients: Vec<_> = (0..CONNS)
                    .map(|_| {
                        Tokio::spawn_inside(async move {
                            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
                            s.set_nodelay(true).unwrap();
                            let mut buf = [7u8; MSG];
                            for _ in 0..rounds {
                                s.write_all(&buf).await.unwrap();
                                s.read_exact(&mut buf).await.unwrap();
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
    .variant("smol", move |iters| {
        let addr = smol_server();
        time_iters(iters, || {
            smol::block_on(async {
                use smol::io::{AsyncReadExt, AsyncWriteExt};
                let clients: Vec<_> = (0..CONNS)
                    .map(|_| {
                        Smol::spawn_inside(async move {
                            let mut s = smol::net::TcpStream::connect(addr).await.unwrap();
                            s.set_nodelay(true).unwrap();
                            let mut buf = [7u8; MSG];
                            for _ in 0..rounds {
                                s.write_all(&buf).await.unwrap();
                                s.read_exact(&mut buf).await.unwrap();
                            }
                        })
                    })
                    .collect();
                for t in clients {
                    t.await;
                }
            })
        })
    })
    .variant("async-std", move |iters| {
        let addr = async_std_server();
        time_iters(iters, || {
            AsyncStd::get().block_on(async {
                use async_std::io::{ReadExt, WriteExt};
                let clients: Vec<_> = (0..CONNS)
                    .map(|_| {
                        AsyncStd::spawn_inside(async move {
                            let mut s = async_std::net::TcpStream::connect(addr).await.unwrap();
                            s.set_nodelay(true).unwrap();
                            let mut buf = [7u8; MSG];
                            for _ in 0..rounds {
                                s.write_all(&buf).await.unwrap();
                                s.read_exact(&mut buf).await.unwrap();
                            }
                        })
                    })
                    .collect();
                for t in clients {
                    t.await;
                }
            })
        })
    })
}
