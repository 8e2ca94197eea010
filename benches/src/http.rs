//! A minimal keep-alive HTTP/1.1 hello-world server, same code shape on corio and tokio,
//! for the report's `wrk` run, and the same hello world served by hyper on each runtime
//! (`corio+hyper` through `corio::hyper`, `tokio+hyper` through hyper-util's `TokioIo`).
//! The report starts it in a child process. [`load`] is a fixed-size client (a given number
//! of keep-alive requests on each of a given number of connections) for counting a server's
//! instructions and system calls per request, which repeat exactly where timings do not.

use std::convert::Infallible;
use std::io::Write;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;

const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!";

/// Counts complete requests (header ends) in `buf`, keeping any partial tail.
fn take_requests(buf: &mut Vec<u8>) -> usize {
    let mut count = 0;
    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
        buf.drain(..end + 4);
        count += 1;
    }
    count
}

/// The hyper servers' service: the raw servers' response, built by hyper.
async fn hello(
    _req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let mut res = hyper::Response::new(Full::new(Bytes::from_static(b"Hello, World!")));
    res.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain"),
    );
    Ok(res)
}

fn announce(port: u16) {
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{port}");
    let _ = out.flush();
}

/// Serves forever on an ephemeral port, printing the port on stdout first.
pub fn serve(runtime: &str) {
    match runtime {
        "corio" => crate::runtimes::new_corio().block_on(async {
            let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            announce(listener.local_addr().unwrap().port());
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    continue;
                };
                drop(corio::spawn(async move {
                    let mut buf = Vec::with_capacity(4096);
                    let mut chunk = [0u8; 4096];
                    loop {
                        let n = match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        buf.extend_from_slice(&chunk[..n]);
                        for _ in 0..take_requests(&mut buf) {
                            if stream.write_all(RESPONSE).await.is_err() {
                                return;
                            }
                        }
                    }
                }));
            }
        }),
        "tokio" => crate::runtimes::new_tokio().block_on(async {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            announce(listener.local_addr().unwrap().port());
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(async move {
                    let mut buf = Vec::with_capacity(4096);
                    let mut chunk = [0u8; 4096];
                    loop {
                        let n = match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        buf.extend_from_slice(&chunk[..n]);
                        for _ in 0..take_requests(&mut buf) {
                            if stream.write_all(RESPONSE).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        }),
        "corio+hyper" => crate::runtimes::new_corio().block_on(async {
            use corio::hyper::{CorioIo, CorioTimer};
            let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            announce(listener.local_addr().unwrap().port());
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(CorioTimer::new());
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let conn = builder.serve_connection(CorioIo::new(stream), service_fn(hello));
                drop(corio::spawn(async move {
                    let _ = conn.await;
                }));
            }
        }),
        "tokio+hyper" => crate::runtimes::new_tokio().block_on(async {
            use hyper_util::rt::{TokioIo, TokioTimer};
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            announce(listener.local_addr().unwrap().port());
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new());
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let conn = builder.serve_connection(TokioIo::new(stream), service_fn(hello));
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
        }),
        other => {
            panic!("unknown runtime {other:?}: expected corio, tokio, corio+hyper or tokio+hyper")
        }
    }
}

/// Sends `requests` keep-alive `GET /` requests, one at a time, on each of `conns`
/// connections to `127.0.0.1:port` (one blocking thread per connection) and checks every
/// response is a `200` with a body. Returns the number of responses read.
pub fn load(port: u16, conns: usize, requests: usize) -> std::io::Result<usize> {
    let threads: Vec<_> = (0..conns)
        .map(|_| std::thread::spawn(move || load_one(port, requests)))
        .collect();
    let mut total = 0;
    for t in threads {
        total += t.join().expect("load thread panicked")?;
    }
    Ok(total)
}

fn load_one(port: u16, requests: usize) -> std::io::Result<usize> {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_nodelay(true)?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    for _ in 0..requests {
        s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")?;
        // Read one response: the head, then Content-Length bytes of body.
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&buf[..end]).map_err(std::io::Error::other)?;
                if !head.starts_with("HTTP/1.1 200") {
                    return Err(std::io::Error::other(format!("bad response: {head}")));
                }
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .ok_or_else(|| std::io::Error::other("no content-length"))?;
                if buf.len() >= end + 4 + len {
                    buf.drain(..end + 4 + len);
                    break;
                }
            }
            let n = s.read(&mut chunk)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    }
    Ok(requests)
}

#[cfg(test)]
mod tests {
    use super::take_requests;

    #[test]
    fn counts_requests_and_keeps_the_partial_tail() {
        let mut buf = b"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\nGET /".to_vec();
        assert_eq!(take_requests(&mut buf), 2);
        assert_eq!(buf, b"GET /");
    }
}
