//! A hyper client on corio: three keep-alive HTTP/1.1 requests on one connection, then 100
//! concurrent HTTP/2 requests multiplexed on one connection.
//!
//! Talks to the server at `CORIO_EXAMPLE_TARGET` (`HOST:PORT`), e.g. the `hyper_server`
//! example: `cargo run -p corio-hyper-examples --example hyper_server`, then
//! `CORIO_EXAMPLE_TARGET=127.0.0.1:PORT cargo run -p corio-hyper-examples --example
//! hyper_client`.

use std::error::Error;

use corio::hyper::{CorioExecutor, CorioIo, CorioTimer};
use corio::net::TcpStream;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::{http1, http2};
use hyper::Request;

type BoxError = Box<dyn Error + Send + Sync>;

#[corio::main]
async fn main() -> Result<(), BoxError> {
    let target = std::env::var("CORIO_EXAMPLE_TARGET")
        .map_err(|_| "set CORIO_EXAMPLE_TARGET=HOST:PORT (start hyper_server first)")?;

    // HTTP/1.1: one connection, requests one after another (keep-alive).
    let stream = TcpStream::connect(target.as_str()).await?;
    let (mut sender, conn) = http1::handshake(CorioIo::new(stream)).await?;
    // The connection does its I/O in its own task; it ends when `sender` is dropped.
    let conn = corio::spawn(conn);
    for path in ["/", "/a", "/b"] {
        let req = Request::get(path)
            .header("host", target.as_str())
            .body(Empty::<Bytes>::new())?;
        // Waits until the connection can take a request (the previous one is done).
        sender.ready().await?;
        let res = sender.send_request(req).await?;
        let status = res.status();
        let body = res.into_body().collect().await?.to_bytes();
        println!(
            "HTTP/1.1 GET {path} -> {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    drop(sender);
    conn.await??;

    // HTTP/2: one connection, 100 requests in flight at once. hyper runs the connection's
    // streams on `CorioExecutor` and its keep-alive pings on `CorioTimer`.
    let stream = TcpStream::connect(target.as_str()).await?;
    let (sender, conn) = http2::Builder::new(CorioExecutor::new())
        .timer(CorioTimer::new())
        .handshake(CorioIo::new(stream))
        .await?;
    let conn = corio::spawn(conn);
    let requests = (0..100).map(|i| {
        let mut sender = sender.clone();
        let target = target.clone();
        async move {
            let req = Request::get(format!("/{i}"))
                .header("host", target)
                .body(Empty::<Bytes>::new())?;
            let res = sender.send_request(req).await?;
            let status = res.status();
            let body = res.into_body().collect().await?.to_bytes();
            Ok::<_, BoxError>((status, body))
        }
    });
    let responses = corio::gather(requests).await;
    let mut ok = 0;
    let mut last_body = Bytes::new();
    for res in responses {
        let (status, body) = res?;
        if status.is_success() {
            ok += 1;
        }
        last_body = body;
    }
    println!(
        "HTTP/2 100 concurrent requests on one connection: {ok} succeeded; last body: {}",
        String::from_utf8_lossy(&last_body)
    );
    drop(sender);
    conn.await??;
    Ok(())
}
