//! asyncio's low-level server: `create_server` with a `Protocol`.
//!
//! Seed: 003 DemoProtocol: `/block` answers after 10 s, every other path at once, and a
//! slow `/block` never delays anyone else. Serves on 127.0.0.1:8888 (or
//! `CORIO_EXAMPLE_ADDR`) until interrupted, or for `CORIO_EXAMPLE_SECONDS` seconds.
#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use corio::net::{Protocol, Transport};

struct DemoProtocol;

impl Protocol for DemoProtocol {
    // Called when a connection is made.
    fn connection_made(&mut self, transport: &Transport) {
        println!("Connection from {}", transport.peer_addr());
    }

    // Called when data arrives.
    fn data_received(&mut self, data: &[u8], transport: &Transport) {
        let Some(url) = parse_url(data) else {
            transport.close();
            return;
        };
        println!("GET {url}");
        let transport = transport.clone();
        if url == "/block" {
            // Answer after 10 s without holding anybody else up.
            drop(corio::spawn(response_after(
                transport,
                b"<h1>Are you block?</h1>",
                10,
            )));
        } else {
            drop(corio::spawn(response(transport, b"<h1>hello world</h1>")));
        }
    }
}

/// The path of `GET <path> HTTP/1.1` (the seed's `url_re`).
fn parse_url(data: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(data).ok()?;
    let rest = text.strip_prefix("GET ")?;
    let (path, _) = rest.split_once(" HTTP/1.1")?;
    Some(path.to_string())
}

// Answer right away.
async fn response(transport: Transport, content: &'static [u8]) {
    transport.write(b"HTTP/1.1 200 OK\r\n");
    transport.write(b"Content-Type: text/html\r\n");
    transport.write(b"\r\n");
    transport.write(content);
    transport.write(b"\r\n");
    transport.close();
}

// Answer after `delay` seconds.
async fn response_after(transport: Transport, content: &'static [u8], delay: u64) {
    corio::sleep(Duration::from_secs(delay)).await;
    response(transport, content).await;
}

#[corio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("CORIO_EXAMPLE_ADDR").unwrap_or_else(|_| "127.0.0.1:8888".into());
    let server = corio::create_server(|| DemoProtocol, addr.as_str()).await?;
    println!("serving on {}", server.local_addr());
    match common::example_seconds() {
        Some(limit) => {
            corio::sleep(limit).await;
            server.close();
            server.wait_closed().await;
            println!("stopped after {:.1}s", limit.as_secs_f64());
        }
        None => {
            server.serve_forever().await?;
        }
    }
    Ok(())
}
