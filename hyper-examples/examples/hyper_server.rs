//! A hello-world HTTP server with hyper on corio: HTTP/1.1 keep-alive and HTTP/2 (prior
//! knowledge) on one port, every connection on its own corio task, and a graceful
//! shutdown that lets in-flight requests finish.
//!
//! Serves on 127.0.0.1:0 (or the address in `CORIO_EXAMPLE_ADDR`) until interrupted, or
//! for `CORIO_EXAMPLE_SECONDS` seconds when that is set; then it stops accepting, asks
//! each connection to close once its current request is answered, and waits for them.
//! Try it with `curl http://ADDR/` or the `hyper_client` example.
#[path = "../../examples/common/mod.rs"]
mod common;

use std::convert::Infallible;
use std::time::Duration;

use corio::hyper::{CorioExecutor, CorioIo, CorioTimer};
use corio::net::TcpListener;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;

/// "Hello, World! (HTTP/1.1)": the protocol the request came in on, so a client can see it.
async fn hello(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = format!("Hello, World! ({:?})", req.version());
    Ok(Response::new(Full::new(Bytes::from(body))))
}

#[corio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("CORIO_EXAMPLE_ADDR").unwrap_or_else(|_| "127.0.0.1:0".into());
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("serving on http://{}", listener.local_addr()?);

    let mut builder = auto::Builder::new(CorioExecutor::new());
    builder
        .http1()
        .timer(CorioTimer::new())
        .header_read_timeout(Duration::from_secs(10));
    builder.http2().timer(CorioTimer::new());
    let graceful = GracefulShutdown::new();

    // How long to serve: `CORIO_EXAMPLE_SECONDS`, or forever.
    let serve_for = common::example_seconds().unwrap_or(Duration::MAX);
    let accept = async {
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(conn) => conn,
                Err(e) => {
                    eprintln!("accept: {e}");
                    continue;
                }
            };
            let conn = builder
                .serve_connection(CorioIo::new(stream), service_fn(hello))
                .into_owned();
            let conn = graceful.watch(conn);
            drop(corio::spawn(async move {
                if let Err(e) = conn.await {
                    eprintln!("connection: {e}");
                }
            }));
        }
    };
    // `accept` never ends on its own: serve until the time is up.
    let _ = corio::wait_for(accept, serve_for).await;

    println!("shutting down: {} connection(s) open", graceful.count());
    match corio::wait_for(graceful.shutdown(), Duration::from_secs(10)).await {
        Ok(()) => println!("all connections closed"),
        Err(_) => println!("gave up waiting for connections after 10 s"),
    }
    Ok(())
}
