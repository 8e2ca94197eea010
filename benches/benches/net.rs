//! TCP echo: 50 connections × 200 round trips of 64 B per iteration, corio vs tokio in
//! the same run (the server is a spawned accept loop with a task per connection).

use std::net::SocketAddr;

use criterion::{criterion_group, criterion_main, Criterion};

const CONNS: usize = 50;
const ROUNDS: usize = 200;
const MSG: usize = 64;

fn corio_echo(c: &mut Criterion) {
    let rt = corio::Runtime::new().unwrap();
    let addr: SocketAddr = rt.block_on(async {
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
    });
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let tokio_addr: SocketAddr = tokio_rt.block_on(async {
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
    });

    let mut g = c.benchmark_group("tcp_echo_50x200x64B");
    g.sample_size(10);
    g.bench_function("corio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let clients: Vec<_> = (0..CONNS)
                    .map(|_| {
                        corio::spawn(async move {
                            let mut s = corio::net::TcpStream::connect(addr).await.unwrap();
                            s.set_nodelay(true).unwrap();
                            let mut buf = [7u8; MSG];
                            for _ in 0..ROUNDS {
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
    });
    g.bench_function("tokio", |b| {
        b.iter(|| {
            tokio_rt.block_on(async {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let clients: Vec<_> = (0..CONNS)
                    .map(|_| {
                        tokio::spawn(async move {
                            let mut s = tokio::net::TcpStream::connect(tokio_addr).await.unwrap();
                            s.set_nodelay(true).unwrap();
                            let mut buf = [7u8; MSG];
                            for _ in 0..ROUNDS {
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
    });
    g.finish();
}

criterion_group!(benches, corio_echo);
criterion_main!(benches);
