//! Graceful shutdown on SIGTERM or Ctrl-C: stop accepting, let the open connections
//! finish within a deadline, exit 0 — what systemd, Kubernetes and `docker stop` expect
//! (asyncio: `loop.add_signal_handler(signal.SIGTERM, ...)` + `server.close()` +
//! `await server.wait_closed()`).
//!
//! A small HTTP/1.1 server: `GET /slow` answers after 1 s, every other path at once; each
//! response closes its connection. Listens on the address given as the first argument or
//! in `CORIO_EXAMPLE_ADDR` (default `127.0.0.1:0`: a free port) and prints it. The grace
//! period is 5 s (`CORIO_GRACE_SECONDS` changes it).
//!
//! ```text
//! cargo run --example graceful_server &
//! curl http://ADDR/slow &  kill -TERM %1     # the slow request still gets its answer
//! ```
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corio::net::{Protocol, Transport};
use corio::signal::unix::{signal, SignalKind};
use futures::future::{select, Either};

/// One connection: reads a request head, answers it once, then closes.
struct Http {
    head: Vec<u8>,
    answering: bool,
    open: Arc<AtomicUsize>,
}

impl Protocol for Http {
    fn connection_made(&mut self, transport: &Transport) {
        self.open.fetch_add(1, Ordering::SeqCst);
        println!("connection from {}", transport.peer_addr());
    }

    fn data_received(&mut self, data: &[u8], transport: &Transport) {
        if self.answering {
            return;
        }
        self.head.extend_from_slice(data);
        if !self.head.windows(4).any(|w| w == b"\r\n\r\n") {
            return; // the request head is not complete yet
        }
        self.answering = true;
        let head = String::from_utf8_lossy(&self.head);
        let request_line = head.lines().next().unwrap_or_default().to_string();
        let path = request_line.split(' ').nth(1).unwrap_or("/").to_string();
        println!("{request_line}");
        let transport = transport.clone();
        if path == "/slow" {
            // Async work is a task holding a clone of the transport.
            drop(corio::spawn(async move {
                corio::sleep(Duration::from_secs(1)).await;
                respond(&transport, "slow response, sent after 1 s\n");
            }));
        } else {
            respond(&transport, "hello\n");
        }
    }

    fn eof_received(&mut self, _transport: &Transport) -> bool {
        self.answering // keep the connection open until the answer is written
    }

    fn connection_lost(&mut self, _error: Option<io::Error>) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
}

fn respond(transport: &Transport, body: &str) {
    transport.write(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    transport.close();
}

#[corio::main]
async fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("CORIO_EXAMPLE_ADDR").ok())
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let grace = Duration::from_secs_f64(
        std::env::var("CORIO_GRACE_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(5.0),
    );

    // Listen to SIGTERM before serving: from here on it no longer kills the process.
    let mut terminate = signal(SignalKind::terminate())?;
    let open = Arc::new(AtomicUsize::new(0));
    let counter = open.clone();
    let server = corio::create_server(
        move || Http {
            head: Vec::new(),
            answering: false,
            open: counter.clone(),
        },
        addr.as_str(),
    )
    .await?;
    println!("serving on {}", server.local_addr());

    let ctrl_c = std::pin::pin!(corio::signal::ctrl_c());
    let name = match select(ctrl_c, std::pin::pin!(terminate.recv())).await {
        Either::Left((result, _)) => {
            result?;
            "SIGINT"
        }
        Either::Right(_) => "SIGTERM",
    };
    println!(
        "{name} received: no longer accepting; waiting up to {:.1} s for {} open connection(s)",
        grace.as_secs_f64(),
        open.load(Ordering::SeqCst)
    );
    server.close();
    match corio::wait_for(server.wait_closed(), grace).await {
        Ok(()) => println!("all connections finished; exiting"),
        Err(_) => println!(
            "deadline passed: dropping {} open connection(s); exiting",
            open.load(Ordering::SeqCst)
        ),
    }
    Ok(())
}
