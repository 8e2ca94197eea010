//! asyncio's TCP echo server and client, written with streams (`start_server`,
//! `open_connection`, `StreamReader`, `StreamWriter`), from the asyncio documentation.
//!
//! The server listens on 127.0.0.1 with a free port (or `CORIO_EXAMPLE_ADDR`); the
//! client connects, sends "Hello World!", prints the echo, then the server shuts down.

use std::io;

use corio::net::{open_connection, start_server, StreamReader, StreamWriter};

async fn handle_echo(mut reader: StreamReader, writer: StreamWriter) {
    let data = match reader.read(100).await {
        Ok(data) => data,
        Err(e) => return eprintln!("read failed: {e}"),
    };
    let message = String::from_utf8_lossy(&data);
    let addr = writer
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    println!("Received {message:?} from {addr}");

    println!("Send: {message:?}");
    writer.write(&data);
    if let Err(e) = writer.drain().await {
        return eprintln!("send failed: {e}");
    }

    println!("Close the connection");
    writer.close();
    writer.wait_closed().await;
}

async fn tcp_echo_client(addr: std::net::SocketAddr, message: &str) -> io::Result<()> {
    let (mut reader, writer) = open_connection(addr).await?;

    println!("Send: {message:?}");
    writer.write(message.as_bytes());
    writer.drain().await?;

    let data = reader.read(100).await?;
    println!("Received: {:?}", String::from_utf8_lossy(&data));

    println!("Close the connection");
    writer.close();
    writer.wait_closed().await;
    Ok(())
}

#[corio::main]
async fn main() -> io::Result<()> {
    let addr = std::env::var("CORIO_EXAMPLE_ADDR").unwrap_or_else(|_| "127.0.0.1:0".into());
    let server = start_server(handle_echo, addr.as_str()).await?;
    println!("Serving on {}", server.local_addr());

    tcp_echo_client(server.local_addr(), "Hello World!").await?;

    server.close();
    server.wait_closed().await;
    println!("Server closed");
    Ok(())
}
