//! `reuse_port`: several server processes share one port and the kernel balances the
//! connections between them (asyncio's `start_server(..., reuse_port=True)`, the usual
//! way to run one server process per core).
//!
//! Run without arguments it is the coordinator: it reserves a free port on 127.0.0.1,
//! starts itself `SERVERS` times as a server process (marked by the `CORIO_REUSE_PORT`
//! environment variable), waits until each listens, makes `CONNECTIONS` connections,
//! and prints which process (pid) answered each; then it stops the servers. Every server
//! process stops when its stdin closes, or after 30 s at the latest, so nothing
//! outlives the example. Linux and the BSDs only (`SO_REUSEPORT`).

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use corio::net::{open_connection, start_server_with, ServerOptions, StreamReader, StreamWriter};

const SERVERS: usize = 4;
const CONNECTIONS: usize = 64;
const ENV: &str = "CORIO_REUSE_PORT";

/// A server process: answers every connection with its pid.
async fn serve(port: u16) -> io::Result<()> {
    let opts = ServerOptions::new().reuse_port(true);
    let pid = std::process::id();
    let server = start_server_with(
        move |_reader: StreamReader, writer: StreamWriter| async move {
            writer.write(format!("served by pid {pid}\n").as_bytes());
        },
        ("127.0.0.1", port),
        opts,
    )
    .await?;
    println!("listening"); // the coordinator waits for this line
                           // Serve until the coordinator closes our stdin (or 30 s pass).
    let stdin_closed = corio::to_thread(|| io::stdin().lines().count());
    let _ = corio::wait_for(stdin_closed, Duration::from_secs(30)).await;
    server.close();
    server.wait_closed().await;
    Ok(())
}

/// Starts one server process and waits until it listens.
fn start_server_process(port: u16) -> io::Result<Child> {
    let mut child = Command::new(std::env::current_exe()?)
        .env(ENV, port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().expect("piped stdout")).read_line(&mut line)?;
    if line.trim() != "listening" {
        let _ = child.kill();
        return Err(io::Error::other(format!("server process said {line:?}")));
    }
    Ok(child)
}

async fn coordinate() -> io::Result<()> {
    let opts = ServerOptions::new().reuse_port(true);
    // Reserve a free port; the server processes bind it too, then we let go of it.
    let reservation = corio::net::TcpListener::bind_with("127.0.0.1:0", opts).await?;
    let port = reservation.local_addr()?.port();
    println!("{SERVERS} server processes share 127.0.0.1:{port}");

    let mut children = Vec::new();
    for _ in 0..SERVERS {
        children.push(corio::to_thread(move || start_server_process(port)).await?);
    }
    drop(reservation); // only the server processes listen now

    let mut served: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..CONNECTIONS {
        let (mut reader, _writer) = open_connection(("127.0.0.1", port)).await?;
        let line = reader.readline().await?;
        let who = String::from_utf8_lossy(&line).trim().to_string();
        *served.entry(who).or_default() += 1;
    }
    for (who, n) in &served {
        println!("{who}: {n} connections");
    }
    println!("distinct server processes: {}", served.len());

    // Closing their stdin stops the servers.
    for mut child in children {
        drop(child.stdin.take());
        let status = corio::to_thread(move || child.wait()).await?;
        if !status.success() {
            return Err(io::Error::other(format!(
                "a server process failed: {status}"
            )));
        }
    }
    println!("all server processes stopped");
    Ok(())
}

fn main() -> io::Result<()> {
    match std::env::var(ENV) {
        Ok(port) => {
            let port = port.parse().map_err(io::Error::other)?;
            corio::run(serve(port))
        }
        Err(_) => corio::run(coordinate()),
    }
}
