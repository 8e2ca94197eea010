//! The seeds' little test web service (`web.py`) and a minimal HTTP/1.1 client, on corio's
//! TCP types, so the client examples talk to loopback and never to the internet.
//!
//! Routes: `/` → `{"msg": "ok"}` after 1 s; `/random` → `{"msg": <0..1>}` after 1 s;
//! `/get?..` → `{"url": ".."}` after 100 ms; `/status/<code>` → that status at once.
#![allow(dead_code)]

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use corio::net::{TcpListener, TcpStream};

/// Accepts connections forever, one task per connection.
pub(crate) async fn serve(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                // Detached: the connection task runs on its own.
                drop(corio::spawn(async move {
                    let _ = handle(stream).await;
                }));
            }
            // Out of descriptors or a reset before accept: keep serving.
            Err(_) => corio::sleep(Duration::from_millis(10)).await,
        }
    }
}

async fn handle(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let request = String::from_utf8_lossy(&buf);
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (status, body) = route(&path).await;
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

async fn route(path: &str) -> (String, String) {
    if path == "/" {
        corio::sleep(Duration::from_secs(1)).await;
        ("200 OK".into(), r#"{"msg": "ok"}"#.into())
    } else if path == "/random" {
        corio::sleep(Duration::from_secs(1)).await;
        ("200 OK".into(), format!(r#"{{"msg": {}}}"#, random()))
    } else if path.starts_with("/get") {
        corio::sleep(Duration::from_millis(100)).await;
        ("200 OK".into(), format!(r#"{{"url": "{path}"}}"#))
    } else if let Some(code) = path.strip_prefix("/status/") {
        let code: u16 = code.parse().unwrap_or(400);
        (format!("{code} {}", reason(code)), String::new())
    } else {
        ("404 Not Found".into(), r#"{"detail": "Not Found"}"#.into())
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Unknown",
    }
}

/// A response: status code and body.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body: String,
}

impl Response {
    /// The number in a `{"msg": <number>}` body.
    pub(crate) fn msg_number(&self) -> f64 {
        self.body
            .trim_start_matches(r#"{"msg": "#)
            .trim_end_matches('}')
            .parse()
            .unwrap_or(0.0)
    }
}

/// `GET path` on corio's TCP stream.
pub(crate) async fn get(addr: SocketAddr, path: &str) -> io::Result<Response> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&chunk[..n]);
    }
    parse(&raw)
}

/// `GET path` with blocking std I/O (the "sync" side of the comparisons).
pub(crate) fn get_blocking(addr: SocketAddr, path: &str) -> io::Result<Response> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr)?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse(&raw)
}

fn parse(raw: &[u8]) -> io::Result<Response> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no HTTP header end"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no HTTP status"))?;
    Ok(Response {
        status,
        body: body.to_string(),
    })
}

/// Starts the web service on `127.0.0.1:0` in a background task and returns its address.
pub(crate) async fn start() -> io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    drop(corio::spawn(serve(listener)));
    Ok(addr)
}

/// A random number in `[0, 1)` (xorshift seeded from the clock; no crate needed).
pub(crate) fn random() -> f64 {
    use std::cell::Cell;
    thread_local!(static STATE: Cell<u64> = Cell::new(seed()));
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

fn seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64;
    let addr = &nanos as *const u64 as u64;
    (nanos ^ addr.rotate_left(32)) | 1
}
