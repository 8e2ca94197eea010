//! asyncio's UDP echo server and client (the `create_datagram_endpoint` examples of the
//! asyncio docs), in one program.
//!
//! The server echoes every datagram back to its sender; the client sends "Hello World!",
//! prints the echo, closes its endpoint, and `main` waits for its `connection_lost`
//! (asyncio's `on_con_lost` future) before closing the server. Bounded: it exits by
//! itself, within 5 s even if a datagram were lost.
use std::net::SocketAddr;
use std::time::Duration;

use corio::net::{create_datagram_endpoint, DatagramProtocol, DatagramTransport};
use corio::sync::oneshot;

struct EchoServerProtocol;

impl DatagramProtocol for EchoServerProtocol {
    fn datagram_received(&mut self, data: &[u8], addr: SocketAddr, transport: &DatagramTransport) {
        let message = String::from_utf8_lossy(data);
        println!("Received {message:?} from {addr}");
        println!("Send {message:?} to {addr}");
        if let Err(e) = transport.sendto(data, Some(addr)) {
            eprintln!("cannot answer {addr}: {e}");
        }
    }
}

struct EchoClientProtocol {
    message: String,
    on_con_lost: Option<oneshot::Sender<()>>,
}

impl DatagramProtocol for EchoClientProtocol {
    fn connection_made(&mut self, transport: &DatagramTransport) {
        println!("Send: {:?}", self.message);
        // The endpoint is connected to the server, so no address is needed.
        transport
            .sendto(self.message.as_bytes(), None)
            .expect("the client endpoint has a remote address");
    }

    fn datagram_received(&mut self, data: &[u8], _addr: SocketAddr, transport: &DatagramTransport) {
        println!("Received: {:?}", String::from_utf8_lossy(data));
        println!("Close the socket");
        transport.close();
    }

    fn error_received(&mut self, error: std::io::Error) {
        println!("Error received: {error}");
    }

    fn connection_lost(&mut self, _error: Option<std::io::Error>) {
        println!("Connection closed");
        if let Some(tx) = self.on_con_lost.take() {
            let _ = tx.send(());
        }
    }
}

#[corio::main]
async fn main() -> std::io::Result<()> {
    println!("Starting UDP server");
    // One protocol instance serves all clients (port 0: the OS picks a free port).
    let server = create_datagram_endpoint(|| EchoServerProtocol, Some("127.0.0.1:0"), None).await?;
    println!("UDP server on {}", server.local_addr());

    let (tx, on_con_lost) = oneshot::channel();
    let message = "Hello World!".to_string();
    let client = create_datagram_endpoint(
        move || EchoClientProtocol {
            message,
            on_con_lost: Some(tx),
        },
        None,
        Some(server.local_addr()),
    )
    .await?;
    println!("client on {}", client.local_addr());

    match corio::wait_for(on_con_lost, Duration::from_secs(5)).await {
        Ok(_) => println!("client done"),
        Err(_) => {
            println!("no echo within 5 s; giving up");
            client.close();
        }
    }
    server.close();
    Ok(())
}
