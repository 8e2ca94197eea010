//! asyncio's high-level streams: [`open_connection`] and [`start_server`] hand out a
//! [`StreamReader`] / [`StreamWriter`] pair per connection (TCP or Unix sockets).
//!
//! A server built with [`start_server`] is the same [`Server`] as
//! [`create_server`](crate::net::create_server)'s: an accept task, one task per
//! connection running the callback, and `close` / `wait_closed` / `serve_forever`.
//! TCP connections get `TCP_NODELAY`, as asyncio's do: a written line leaves at once
//! instead of waiting for the previous one's acknowledgement.

mod reader;
mod writer;

use std::future::Future;
use std::io;
use std::panic::Location;
use std::path::Path;

pub use reader::{Lines, ReadError, StreamReader};
pub use writer::StreamWriter;

use super::server::{file_id, serve, ConnGuard, ServerAddr};
use super::{
    Server, ServerOptions, TcpListener, TcpStream, ToSocketAddrs, UnixListener, UnixStream,
};
use crate::lazy;
use crate::runtime::Handle;

/// Splits a TCP stream into asyncio's reader/writer pair; the writer's background
/// sends run on `handle`'s runtime, and it holds `guard` (its server's count of open
/// connections) until it is dropped and has sent everything.
fn tcp_pair(
    stream: TcpStream,
    handle: Handle,
    guard: Option<ConnGuard>,
) -> (StreamReader, StreamWriter) {
    let _ = stream.set_nodelay(true);
    let (rd, wr) = stream.into_split();
    (StreamReader::from(rd), StreamWriter::tcp(wr, handle, guard))
}

fn unix_pair(
    stream: UnixStream,
    handle: Handle,
    guard: Option<ConnGuard>,
) -> (StreamReader, StreamWriter) {
    let (rd, wr) = stream.into_split();
    (
        StreamReader::from(rd),
        StreamWriter::unix(wr, handle, guard),
    )
}

/// Connects to `addr` and returns the connection's reader and writer, asyncio's
/// `open_connection(host, port)`.
///
/// Lazy, like every corio future: nothing happens until it is awaited.
///
/// # Panics
///
/// Polling the future outside a corio runtime panics; the message names the line that
/// called `open_connection`. Building it never panics.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::net::{open_connection, TcpListener};
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let (mut reader, writer) = open_connection(listener.local_addr()?).await?;
/// let (mut peer, _) = listener.accept().await?;
/// writer.write(b"hello\n");
/// let mut buf = [0; 6];
/// peer.read_exact(&mut buf).await?;
/// peer.write_all(b"bye\n").await?;
/// assert_eq!(reader.readline().await?, b"bye\n");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[track_caller]
pub fn open_connection<A: ToSocketAddrs>(
    addr: A,
) -> impl Future<Output = io::Result<(StreamReader, StreamWriter)>> {
    let created = Location::caller();
    async move {
        let handle = lazy::handle("corio::net::open_connection", created);
        let stream = TcpStream::connect(addr).await?;
        Ok(tcp_pair(stream, handle, None))
    }
}

/// Connects to the Unix socket at `path` (asyncio's `open_unix_connection`).
///
/// # Panics
///
/// Polling the future outside a corio runtime panics. Building it never panics.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::net::{open_unix_connection, start_unix_server};
/// let path = std::env::temp_dir().join(format!("corio-doc-ouc-{}.sock", std::process::id()));
/// # let _ = std::fs::remove_file(&path);
/// let server = start_unix_server(|_r, w| async move { w.write(b"hi\n") }, &path).await?;
/// let (mut r, _w) = open_unix_connection(&path).await?;
/// assert_eq!(r.readline().await?, b"hi\n");
/// server.close();
/// server.wait_closed().await;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[track_caller]
pub fn open_unix_connection<P: AsRef<Path>>(
    path: P,
) -> impl Future<Output = io::Result<(StreamReader, StreamWriter)>> {
    let created = Location::caller();
    async move {
        let handle = lazy::handle("corio::net::open_unix_connection", created);
        let stream = UnixStream::connect(path).await?;
        Ok(unix_pair(stream, handle, None))
    }
}

/// Wraps a connected [`TcpStream`] as a reader/writer pair (asyncio's
/// `open_connection(sock=...)`); sets `TCP_NODELAY` like [`open_connection`].
///
/// # Panics
///
/// Panics outside a corio runtime (the writer sends in the background on it).
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::net::{tcp_streams, TcpListener, TcpStream};
/// let l = TcpListener::bind("127.0.0.1:0").await?;
/// let (_r, w) = tcp_streams(TcpStream::connect(l.local_addr()?).await?);
/// let (s, _) = l.accept().await?;
/// let (mut peer, _pw) = tcp_streams(s);
/// w.write(b"x\n");
/// assert_eq!(peer.readline().await?, b"x\n");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[track_caller]
pub fn tcp_streams(stream: TcpStream) -> (StreamReader, StreamWriter) {
    tcp_pair(stream, Handle::current(), None)
}

/// Wraps a connected [`UnixStream`] as a reader/writer pair (asyncio's
/// `open_unix_connection(sock=...)`).
///
/// # Panics
///
/// Panics outside a corio runtime.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// let (a, b) = corio_runtime::net::UnixStream::pair()?;
/// let (_ra, wa) = corio_runtime::net::unix_streams(a);
/// let (mut rb, _wb) = corio_runtime::net::unix_streams(b);
/// wa.write(b"x\n");
/// assert_eq!(rb.readline().await?, b"x\n");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[track_caller]
pub fn unix_streams(stream: UnixStream) -> (StreamReader, StreamWriter) {
    unix_pair(stream, Handle::current(), None)
}

/// Starts a TCP server on `addr` that calls `client_connected(reader, writer)` for each
/// connection and runs the returned future as a task of its own (asyncio's
/// `start_server`). Returns the same [`Server`] as
/// [`create_server`](crate::net::create_server): serving starts at once;
/// [`Server::close`] stops accepting and [`Server::wait_closed`] waits for the
/// connection tasks to finish.
///
/// When the callback's future ends, its writer (if not moved elsewhere) is dropped:
/// what was written is still sent, then the write direction is closed. A connection
/// counts as open for [`Server::wait_closed`] until both happened.
///
/// # Panics
///
/// Polling the future outside a corio runtime panics before any socket is created.
///
/// # Examples
///
/// asyncio's TCP echo server:
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::net::{open_connection, start_server, StreamReader, StreamWriter};
/// async fn handle_echo(mut reader: StreamReader, writer: StreamWriter) {
///     let Ok(data) = reader.read(100).await else { return };
///     writer.write(&data);
///     let _ = writer.drain().await;
///     writer.close();
///     writer.wait_closed().await;
/// }
/// let server = start_server(handle_echo, "127.0.0.1:0").await?;
/// let (mut r, w) = open_connection(server.local_addr()).await?;
/// w.write(b"Hello World!");
/// assert_eq!(r.read_to_end().await?, b"Hello World!");
/// server.close();
/// server.wait_closed().await;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[track_caller]
pub fn start_server<F, Fut, A>(
    client_connected: F,
    addr: A,
) -> impl Future<Output = io::Result<Server>>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
    A: ToSocketAddrs,
{
    start_server_at(
        client_connected,
        addr,
        ServerOptions::new(),
        Location::caller(),
    )
}

/// [`start_server`] with [`ServerOptions`], e.g. `reuse_port` so that several server
/// processes share one port (asyncio's `start_server(..., reuse_port=True)`).
///
/// # Panics
///
/// Polling the future outside a corio runtime panics before any socket is created.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::net::{start_server_with, ServerOptions};
/// let opts = ServerOptions::new().reuse_port(true);
/// let a = start_server_with(|_r, w| async move { w.write(b"a") }, "127.0.0.1:0", opts.clone()).await?;
/// let b = start_server_with(|_r, w| async move { w.write(b"b") }, a.local_addr(), opts).await?;
/// assert_eq!(a.local_addr(), b.local_addr()); // the kernel picks one per connection
/// a.close();
/// b.close();
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[track_caller]
pub fn start_server_with<F, Fut, A>(
    client_connected: F,
    addr: A,
    opts: ServerOptions,
) -> impl Future<Output = io::Result<Server>>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
    A: ToSocketAddrs,
{
    start_server_at(client_connected, addr, opts, Location::caller())
}

async fn start_server_at<F, Fut, A>(
    client_connected: F,
    addr: A,
    opts: ServerOptions,
    created: &'static Location<'static>,
) -> io::Result<Server>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
    A: ToSocketAddrs,
{
    let handle = lazy::handle("corio::net::start_server", created);
    let listener = TcpListener::bind_on(handle.inner.driver().clone(), addr, &opts).await?;
    let local = ServerAddr::Tcp(listener.local_addr()?);
    let conn_handle = handle.clone();
    Ok(serve(
        listener,
        local,
        &handle,
        move |(stream, _peer), guard| {
            let (r, w) = tcp_pair(stream, conn_handle.clone(), Some(guard.clone()));
            client_connected(r, w)
        },
    ))
}

/// [`start_server`] on a Unix socket at `path` (asyncio's `start_unix_server`). The path
/// must not exist yet (`AddrInUse`); closing the server removes the socket file (if it
/// is still the one the server created), as asyncio does.
///
/// # Panics
///
/// Polling the future outside a corio runtime panics before any socket is created.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::net::{open_unix_connection, start_unix_server};
/// let path = std::env::temp_dir().join(format!("corio-doc-sus-{}.sock", std::process::id()));
/// # let _ = std::fs::remove_file(&path);
/// let server = start_unix_server(|mut r, w| async move {
///     if let Ok(line) = r.readline().await {
///         w.write(&line.to_ascii_uppercase());
///     }
/// }, &path).await?;
/// let (mut r, w) = open_unix_connection(&path).await?;
/// w.write(b"shout\n");
/// assert_eq!(r.readline().await?, b"SHOUT\n");
/// server.close();
/// server.wait_closed().await;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[track_caller]
pub fn start_unix_server<F, Fut, P>(
    client_connected: F,
    path: P,
) -> impl Future<Output = io::Result<Server>>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
    P: AsRef<Path>,
{
    let created = Location::caller();
    async move {
        let handle = lazy::handle("corio::net::start_unix_server", created);
        let path = path.as_ref().to_path_buf();
        let listener = UnixListener::bind(&path).await?;
        let local = ServerAddr::Unix(path.clone(), file_id(&path));
        let conn_handle = handle.clone();
        Ok(serve(listener, local, &handle, move |stream, guard| {
            let (r, w) = unix_pair(stream, conn_handle.clone(), Some(guard.clone()));
            client_connected(r, w)
        }))
    }
}
