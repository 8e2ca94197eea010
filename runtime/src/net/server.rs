//! asyncio's low-level server: [`create_server`], [`Protocol`], [`Transport`], [`Server`].

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::panic::Location;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::addr::ToSocketAddrs;
use super::stream;
use super::tcp::{TcpListener, TcpStream};
use super::unix::{UnixListener, UnixStream};
use super::ServerOptions;
use crate::lazy;
use crate::runtime::Handle;

/// Reading from a connection pauses while more than this many bytes written through its
/// [`Transport`] wait to be sent, and resumes once they are sent: the peer then feels
/// TCP back-pressure instead of the server buffering without bound.
pub const WRITE_HIGH_WATER: usize = 64 * 1024;

/// Per-connection read buffer size (the largest `data` slice handed to
/// [`Protocol::data_received`]).
const READ_BUF: usize = 64 * 1024;

/// Callbacks for one connection, asyncio's `asyncio.Protocol`.
///
/// A fresh protocol object is made by the factory for every connection. Callbacks run
/// on the connection's own task, one at a time, in this order:
/// [`connection_made`](Protocol::connection_made) once, then
/// [`data_received`](Protocol::data_received) any number of times, then
/// [`eof_received`](Protocol::eof_received) at most once (when the peer closes its write
/// half), then [`connection_lost`](Protocol::connection_lost) exactly once.
/// Callbacks are synchronous: to do async work (a `sleep`, a database call), spawn a task
/// and give it a clone of the [`Transport`], like the asyncio tutorials do with
/// `create_task`.
///
/// # Examples
///
/// ```
/// use corio_runtime::net::{Protocol, Transport};
///
/// struct Echo;
/// impl Protocol for Echo {
///     fn data_received(&mut self, data: &[u8], transport: &Transport) {
///         transport.write(data);
///     }
/// }
/// ```
pub trait Protocol: Send + 'static {
    /// The connection is established; keep a clone of `transport` if needed later.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_runtime::net::{Protocol, Transport};
    /// struct Greeter;
    /// impl Protocol for Greeter {
    ///     fn connection_made(&mut self, transport: &Transport) {
    ///         transport.write(b"welcome\n");
    ///     }
    ///     fn data_received(&mut self, _data: &[u8], _t: &Transport) {}
    /// }
    /// ```
    fn connection_made(&mut self, transport: &Transport) {
        let _ = transport;
    }

    /// Some bytes arrived (message boundaries are not preserved).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_runtime::net::{Protocol, Transport};
    /// struct Upper;
    /// impl Protocol for Upper {
    ///     fn data_received(&mut self, data: &[u8], transport: &Transport) {
    ///         transport.write(&data.to_ascii_uppercase());
    ///     }
    /// }
    /// ```
    fn data_received(&mut self, data: &[u8], transport: &Transport);

    /// The peer closed its write half. Return `true` to keep the connection open (to keep
    /// writing); by default (`false`) the transport closes itself: pending writes are
    /// flushed, then the connection is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_runtime::net::{Protocol, Transport};
    /// struct Summer(u64);
    /// impl Protocol for Summer {
    ///     fn data_received(&mut self, data: &[u8], _t: &Transport) {
    ///         self.0 += data.iter().map(|&b| u64::from(b)).sum::<u64>();
    ///     }
    ///     fn eof_received(&mut self, transport: &Transport) -> bool {
    ///         transport.write(self.0.to_string().as_bytes()); // answer after EOF
    ///         false // then close
    ///     }
    /// }
    /// ```
    fn eof_received(&mut self, transport: &Transport) -> bool {
        let _ = transport;
        false
    }

    /// The connection is closed: `None` after a clean close, `Some(error)` after an I/O
    /// error (e.g. `ConnectionReset`). Called exactly once.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_runtime::net::{Protocol, Transport};
    /// struct Logged;
    /// impl Protocol for Logged {
    ///     fn data_received(&mut self, _data: &[u8], _t: &Transport) {}
    ///     fn connection_lost(&mut self, error: Option<std::io::Error>) {
    ///         if let Some(e) = error {
    ///             eprintln!("connection lost: {e}");
    ///         }
    ///     }
    /// }
    /// ```
    fn connection_lost(&mut self, error: Option<io::Error>) {
        let _ = error;
    }
}

/// The write side of a connection handed to a [`Protocol`], asyncio's `Transport`.
///
/// `Clone + Send + Sync`: clones can be moved into spawned tasks. [`write`](Transport::write)
/// never blocks: bytes are appended to the connection's buffer and sent by the
/// connection's task. Back-pressure: while more than [`WRITE_HIGH_WATER`] bytes are
/// buffered the connection stops reading (so `data_received` pauses and the peer is
/// slowed down by TCP); producers outside the protocol can watch
/// [`get_write_buffer_size`](Transport::get_write_buffer_size).
///
/// # Examples
///
/// ```
/// use corio_runtime::net::{Protocol, Transport};
/// struct Hello;
/// impl Protocol for Hello {
///     fn data_received(&mut self, _data: &[u8], transport: &Transport) {
///         transport.write(b"HTTP/1.1 200 OK\r\n\r\nhello");
///         transport.close();
///     }
/// }
/// ```
#[derive(Clone)]
pub struct Transport {
    shared: Arc<TransportShared>,
}

struct TransportShared {
    state: Mutex<TransportState>,
    peer: SocketAddr,
}

#[derive(Default)]
struct TransportState {
    /// Bytes written and not yet taken by the connection task.
    buf: Vec<u8>,
    /// Bytes taken by the connection task and not yet sent.
    in_flight: usize,
    closing: bool,
    waker: Option<Waker>,
}

impl Transport {
    fn new(peer: SocketAddr) -> Transport {
        Transport {
            shared: Arc::new(TransportShared {
                state: Mutex::new(TransportState::default()),
                peer,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, TransportState> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `data` to be sent; never blocks. Ignored once the transport is closing.
    ///
    /// # Examples
    ///
    /// ```
    /// # use corio_runtime::net::{Protocol, Transport};
    /// # struct P;
    /// # impl Protocol for P {
    /// fn data_received(&mut self, data: &[u8], transport: &Transport) {
    ///     transport.write(b"you said: ");
    ///     transport.write(data);
    /// }
    /// # }
    /// ```
    pub fn write(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let mut st = self.lock();
        if st.closing {
            return;
        }
        st.buf.extend_from_slice(data);
        let waker = st.waker.take();
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Closes the connection once everything written so far has been sent; stops
    /// reading at once. Further writes are ignored. Idempotent.
    ///
    /// # Examples
    ///
    /// ```
    /// # use corio_runtime::net::{Protocol, Transport};
    /// # struct P;
    /// # impl Protocol for P {
    /// fn data_received(&mut self, _data: &[u8], transport: &Transport) {
    ///     transport.write(b"bye");
    ///     transport.close(); // "bye" is still delivered
    ///     assert!(transport.is_closing());
    /// }
    /// # }
    /// ```
    pub fn close(&self) {
        let mut st = self.lock();
        st.closing = true;
        let waker = st.waker.take();
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// True once [`close`](Transport::close) was called or the connection is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use corio_runtime::net::{Protocol, Transport};
    /// # struct P;
    /// # impl Protocol for P {
    /// fn data_received(&mut self, data: &[u8], transport: &Transport) {
    ///     if !transport.is_closing() {
    ///         transport.write(data);
    ///     }
    /// }
    /// # }
    /// ```
    pub fn is_closing(&self) -> bool {
        self.lock().closing
    }

    /// The peer's address (asyncio's `get_extra_info('peername')`).
    ///
    /// # Examples
    ///
    /// ```
    /// # use corio_runtime::net::{Protocol, Transport};
    /// # struct P;
    /// # impl Protocol for P {
    /// fn connection_made(&mut self, transport: &Transport) {
    ///     println!("Connection from {}", transport.peer_addr());
    /// }
    /// # fn data_received(&mut self, _: &[u8], _: &Transport) {}
    /// # }
    /// ```
    pub fn peer_addr(&self) -> SocketAddr {
        self.shared.peer
    }

    /// Bytes written but not yet sent.
    ///
    /// # Examples
    ///
    /// ```
    /// # use corio_runtime::net::{Protocol, Transport, WRITE_HIGH_WATER};
    /// # struct P;
    /// # impl Protocol for P {
    /// fn data_received(&mut self, data: &[u8], transport: &Transport) {
    ///     if transport.get_write_buffer_size() < WRITE_HIGH_WATER {
    ///         transport.write(data);
    ///     }
    /// }
    /// # }
    /// ```
    pub fn get_write_buffer_size(&self) -> usize {
        let st = self.lock();
        st.buf.len() + st.in_flight
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("peer", &self.shared.peer)
            .field("closing", &self.is_closing())
            .finish()
    }
}

/// A listening server made by [`create_server`] or
/// [`start_server`](crate::net::start_server) (and their `_with` and Unix variants),
/// asyncio's `Server`.
///
/// Dropping the `Server` handle does not stop it (like asyncio, where the loop keeps it);
/// call [`close`](Server::close).
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::net::{create_server, Protocol, Transport};
/// struct Echo;
/// impl Protocol for Echo {
///     fn data_received(&mut self, data: &[u8], t: &Transport) {
///         t.write(data);
///     }
/// }
/// let server = create_server(|| Echo, "127.0.0.1:0").await?;
/// let mut c = corio_runtime::net::TcpStream::connect(server.local_addr()).await?;
/// c.write_all(b"hi").await?;
/// let mut buf = [0; 2];
/// c.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"hi");
/// drop(c);
/// server.close();
/// server.wait_closed().await;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct Server {
    inner: Arc<ServerInner>,
}

struct ServerInner {
    local: ServerAddr,
    closed: AtomicBool,
    /// Live connections plus one for the accept loop.
    active: AtomicUsize,
    wakers: Mutex<ServerWakers>,
}

#[derive(Default)]
struct ServerWakers {
    /// The accept loop, to notice `close()`.
    acceptor: Option<Waker>,
    /// `serve_forever` / `wait_closed` callers.
    waiters: Vec<Waker>,
}

impl ServerInner {
    fn lock(&self) -> MutexGuard<'_, ServerWakers> {
        self.wakers.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wake_waiters(&self) {
        let waiters = std::mem::take(&mut self.lock().waiters);
        waiters.into_iter().for_each(Waker::wake);
    }

    fn release(&self) {
        if self.active.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.wake_waiters();
        }
    }

    fn poll_until(&self, cx: &mut Context<'_>, done: impl Fn(&ServerInner) -> bool) -> Poll<()> {
        if done(self) {
            return Poll::Ready(());
        }
        let mut w = self.lock();
        if !w.waiters.iter().any(|x| x.will_wake(cx.waker())) {
            w.waiters.push(cx.waker().clone());
        }
        drop(w);
        if done(self) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Server {
    /// The address the server listens on (useful after binding port 0).
    ///
    /// # Panics
    ///
    /// Panics for a Unix-socket server ([`start_unix_server`](crate::net::start_unix_server)),
    /// which has no IP address: use [`local_path`](Server::local_path) there.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{create_server, Protocol, Transport};
    /// # struct P;
    /// # impl Protocol for P { fn data_received(&mut self, _: &[u8], _: &Transport) {} }
    /// let server = create_server(|| P, "127.0.0.1:0").await?;
    /// assert_ne!(server.local_addr().port(), 0);
    /// server.close();
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        match &self.inner.local {
            ServerAddr::Tcp(addr) => *addr,
            ServerAddr::Unix(path, _) => panic!(
                "Server::local_addr called on a Unix-socket server (listening on {}): \
                 use Server::local_path",
                path.display()
            ),
        }
    }

    /// The socket file a Unix-socket server listens on; `None` for a TCP server.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::net::start_unix_server;
    /// let path = std::env::temp_dir().join(format!("corio-doc-lp-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let server = start_unix_server(|_r, _w| async {}, &path).await?;
    /// assert_eq!(server.local_path(), Some(path.as_path()));
    /// server.close();
    /// server.wait_closed().await; // removes the socket file
    /// assert!(!path.exists());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_path(&self) -> Option<&Path> {
        match &self.inner.local {
            ServerAddr::Tcp(_) => None,
            ServerAddr::Unix(path, _) => Some(path),
        }
    }

    /// Waits until the server is closed (it already serves from [`create_server`] on;
    /// this is asyncio's `await server.serve_forever()`). Returns once another task
    /// calls [`close`](Server::close).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{create_server, Protocol, Transport};
    /// # struct P;
    /// # impl Protocol for P { fn data_received(&mut self, _: &[u8], _: &Transport) {} }
    /// let server = create_server(|| P, "127.0.0.1:0").await?;
    /// let closer = server.clone();
    /// std::thread::spawn(move || {
    ///     std::thread::sleep(std::time::Duration::from_millis(20));
    ///     closer.close();
    /// });
    /// server.serve_forever().await?; // returns after close()
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn serve_forever(&self) -> io::Result<()> {
        poll_fn(|cx| {
            self.inner
                .poll_until(cx, |s| s.closed.load(Ordering::Acquire))
        })
        .await;
        Ok(())
    }

    /// Stops accepting: the listening socket is closed (new connections are refused once
    /// [`wait_closed`](Server::wait_closed) returns). Existing connections continue.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{create_server, Protocol, Transport};
    /// # struct P;
    /// # impl Protocol for P { fn data_received(&mut self, _: &[u8], _: &Transport) {} }
    /// let server = create_server(|| P, "127.0.0.1:0").await?;
    /// server.close();
    /// server.wait_closed().await;
    /// assert!(corio_runtime::net::TcpStream::connect(server.local_addr()).await.is_err());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn close(&self) {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let acceptor = self.inner.lock().acceptor.take();
        if let Some(w) = acceptor {
            w.wake();
        }
        self.inner.wake_waiters();
    }

    /// Waits until the server is closed and every connection has finished (asyncio 3.12
    /// semantics): its task has ended and, for a stream server, its
    /// [`StreamWriter`](crate::net::StreamWriter) is dropped or closed and has sent
    /// everything written. Only meaningful after [`close`](Server::close).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{create_server, Protocol, Transport};
    /// # struct P;
    /// # impl Protocol for P { fn data_received(&mut self, _: &[u8], _: &Transport) {} }
    /// let server = create_server(|| P, "127.0.0.1:0").await?;
    /// server.close();
    /// server.wait_closed().await;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn wait_closed(&self) {
        poll_fn(|cx| {
            self.inner.poll_until(cx, |s| {
                s.closed.load(Ordering::Acquire) && s.active.load(Ordering::Acquire) == 0
            })
        })
        .await
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local", &self.inner.local)
            .field("closed", &self.inner.closed.load(Ordering::Relaxed))
            .finish()
    }
}

/// Starts a TCP server on `addr` that serves each connection with a fresh protocol from
/// `factory`, asyncio's `loop.create_server(protocol_factory, host, port)`.
///
/// Serving starts as soon as the returned future completes (an accept task and one task
/// per connection are spawned on the runtime that awaits it). Like every corio future it
/// is lazy: building it binds nothing. When `accept` fails for lack of resources
/// (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`) the accept loop backs off (10 ms doubling up
/// to 100 ms) and keeps serving once descriptors are free; other accept errors (e.g. a
/// connection aborted before it was accepted) are skipped.
///
/// # Panics
///
/// Polling the future outside a corio runtime panics before any socket is created; the
/// message names `create_server` and the line that called it. Building it never panics.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::net::{create_server, Protocol, TcpStream, Transport};
/// struct Hello;
/// impl Protocol for Hello {
///     fn data_received(&mut self, _data: &[u8], t: &Transport) {
///         t.write(b"hello\n");
///         t.close();
///     }
/// }
/// let server = create_server(|| Hello, "127.0.0.1:0").await?;
/// let mut c = TcpStream::connect(server.local_addr()).await?;
/// c.write_all(b"GET /").await?;
/// let mut reply = Vec::new();
/// let mut buf = [0; 64];
/// loop {
///     let n = c.read(&mut buf).await?;
///     if n == 0 { break; }
///     reply.extend_from_slice(&buf[..n]);
/// }
/// assert_eq!(reply, b"hello\n");
/// server.close();
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[track_caller]
pub fn create_server<P, F, A>(factory: F, addr: A) -> impl Future<Output = io::Result<Server>>
where
    P: Protocol,
    F: Fn() -> P + Send + Sync + 'static,
    A: ToSocketAddrs,
{
    create_server_at(factory, addr, ServerOptions::new(), Location::caller())
}

/// [`create_server`] with [`ServerOptions`] (asyncio's `create_server(..., reuse_port=True)`).
///
/// # Panics
///
/// Polling the future outside a corio runtime panics before any socket is created.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::net::{create_server_with, Protocol, ServerOptions, Transport};
/// struct Echo;
/// impl Protocol for Echo {
///     fn data_received(&mut self, data: &[u8], t: &Transport) {
///         t.write(data);
///     }
/// }
/// let opts = ServerOptions::new().reuse_port(true);
/// let a = create_server_with(|| Echo, "127.0.0.1:0", opts.clone()).await?;
/// let b = create_server_with(|| Echo, a.local_addr(), opts).await?; // same port
/// assert_eq!(a.local_addr(), b.local_addr());
/// a.close();
/// b.close();
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[track_caller]
pub fn create_server_with<P, F, A>(
    factory: F,
    addr: A,
    opts: ServerOptions,
) -> impl Future<Output = io::Result<Server>>
where
    P: Protocol,
    F: Fn() -> P + Send + Sync + 'static,
    A: ToSocketAddrs,
{
    create_server_at(factory, addr, opts, Location::caller())
}

async fn create_server_at<P, F, A>(
    factory: F,
    addr: A,
    opts: ServerOptions,
    created: &'static Location<'static>,
) -> io::Result<Server>
where
    P: Protocol,
    F: Fn() -> P + Send + Sync + 'static,
    A: ToSocketAddrs,
{
    let handle = lazy::handle("corio::net::create_server", created);
    let listener = TcpListener::bind_on(handle.inner.driver().clone(), addr, &opts).await?;
    let local = ServerAddr::Tcp(listener.local_addr()?);
    Ok(serve(
        listener,
        local,
        &handle,
        move |(stream, peer), _guard| run_connection(stream, peer, factory()),
    ))
}

/// Where a [`Server`] listens.
#[derive(Debug)]
pub(crate) enum ServerAddr {
    Tcp(SocketAddr),
    /// The socket file and its (device, inode), so that closing the server removes the
    /// file only if it is still the one this server created.
    Unix(PathBuf, Option<(u64, u64)>),
}

/// A listener that [`serve`] can accept connections from.
pub(crate) trait Accept: Send + Sync + 'static {
    /// One accepted connection.
    type Conn: Send + 'static;
    fn poll_accept_conn(&self, cx: &mut Context<'_>) -> Poll<io::Result<Self::Conn>>;
}

impl Accept for TcpListener {
    type Conn = (TcpStream, SocketAddr);
    fn poll_accept_conn(&self, cx: &mut Context<'_>) -> Poll<io::Result<Self::Conn>> {
        self.poll_accept(cx)
    }
}

impl Accept for UnixListener {
    type Conn = UnixStream;
    fn poll_accept_conn(&self, cx: &mut Context<'_>) -> Poll<io::Result<Self::Conn>> {
        self.poll_accept(cx).map_ok(|(s, _)| s)
    }
}

/// Starts serving `listener` on `handle`'s runtime: an accept task that runs
/// `serve_conn(conn, guard)` as a task of its own for each connection. The connection
/// counts as open for [`Server::wait_closed`] until its task has finished (also by a
/// panic) and every clone of `guard` is dropped (a stream writer keeps one until it has
/// sent everything).
pub(crate) fn serve<L, F, Fut>(
    listener: L,
    local: ServerAddr,
    handle: &Handle,
    serve_conn: F,
) -> Server
where
    L: Accept,
    F: Fn(L::Conn, &ConnGuard) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let inner = Arc::new(ServerInner {
        local,
        closed: AtomicBool::new(false),
        active: AtomicUsize::new(1),
        wakers: Mutex::new(ServerWakers::default()),
    });
    let accept = accept_loop(listener, serve_conn, inner.clone(), handle.clone());
    spawn_detached(handle, accept);
    Server { inner }
}

fn is_resource_exhaustion(e: &io::Error) -> bool {
    // EMFILE, ENFILE, ENOBUFS, ENOMEM (Linux and BSD numbers; std has no stable kinds).
    let codes: &[i32] = if cfg!(any(target_os = "linux", target_os = "android")) {
        &[24, 23, 105, 12]
    } else {
        &[24, 23, 55, 12]
    };
    e.raw_os_error().is_some_and(|c| codes.contains(&c)) || e.kind() == io::ErrorKind::OutOfMemory
}

/// Releases one unit of [`ServerInner::active`] when dropped: when a connection task
/// finishes, panics or is dropped.
pub(crate) struct Active(Arc<ServerInner>);

impl Drop for Active {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// Keeps one connection counted as open by its [`Server`] while any clone lives.
pub(crate) type ConnGuard = Arc<Active>;

async fn accept_loop<L, F, Fut>(listener: L, serve_conn: F, inner: Arc<ServerInner>, handle: Handle)
where
    L: Accept,
    F: Fn(L::Conn, &ConnGuard) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut backoff = Duration::from_millis(10);
    loop {
        let accepted = poll_fn(|cx| {
            if inner.closed.load(Ordering::Acquire) {
                return Poll::Ready(None);
            }
            inner.lock().acceptor = Some(cx.waker().clone());
            if inner.closed.load(Ordering::Acquire) {
                return Poll::Ready(None);
            }
            listener.poll_accept_conn(cx).map(Some)
        })
        .await;
        match accepted {
            None => break,
            Some(Ok(conn)) => {
                backoff = Duration::from_millis(10);
                inner.active.fetch_add(1, Ordering::AcqRel);
                let guard = Arc::new(Active(inner.clone()));
                let fut = serve_conn(conn, &guard);
                spawn_detached(&handle, async move {
                    fut.await;
                    drop(guard);
                });
            }
            Some(Err(e)) if is_resource_exhaustion(&e) => {
                crate::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_millis(100));
            }
            Some(Err(_)) => {} // e.g. ECONNABORTED: that connection is gone; keep serving
        }
    }
    drop(listener); // closes the socket: new connections are refused
    if let ServerAddr::Unix(path, Some(id)) = &inner.local {
        if file_id(path) == Some(*id) {
            let _ = std::fs::remove_file(path);
        }
    }
    inner.release();
    inner.wake_waiters();
}

/// The (device, inode) of the file at `path`, if any.
pub(crate) fn file_id(path: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

enum Step {
    Data(usize),
    Eof,
    Closed,
    Failed(io::Error),
}

/// Calls `connection_lost` exactly once, even if the connection task is dropped.
struct Lifecycle<P: Protocol> {
    proto: P,
    lost: bool,
}

impl<P: Protocol> Lifecycle<P> {
    fn lost(&mut self, error: Option<io::Error>) {
        if !self.lost {
            self.lost = true;
            self.proto.connection_lost(error);
        }
    }
}

impl<P: Protocol> Drop for Lifecycle<P> {
    fn drop(&mut self) {
        if !self.lost && !std::thread::panicking() {
            self.lost(Some(io::Error::other(
                "connection task dropped (runtime shut down)",
            )));
        }
    }
}

async fn run_connection<P: Protocol>(stream: TcpStream, peer: SocketAddr, proto: P) {
    let transport = Transport::new(peer);
    let mut life = Lifecycle { proto, lost: false };
    life.proto.connection_made(&transport);
    let io = stream.io_ref();
    let mut rbuf = vec![0u8; READ_BUF];
    let mut out: Vec<u8> = Vec::new();
    let mut sent = 0usize;
    let mut read_open = true;
    let result = loop {
        let step = poll_fn(|cx| {
            // Send what the protocol wrote.
            loop {
                if sent == out.len() {
                    out.clear();
                    sent = 0;
                    let mut st = transport.lock();
                    st.in_flight = 0;
                    if st.buf.is_empty() {
                        if st.closing {
                            return Poll::Ready(Step::Closed);
                        }
                        if !st.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                            st.waker = Some(cx.waker().clone());
                        }
                        break;
                    }
                    std::mem::swap(&mut out, &mut st.buf);
                    st.in_flight = out.len();
                }
                match stream::poll_write(io, cx, &out[sent..]) {
                    Poll::Ready(Ok(n)) => {
                        sent += n;
                        transport.lock().in_flight = out.len() - sent;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Step::Failed(e)),
                    Poll::Pending => break,
                }
            }
            // Read, unless closing, at EOF, or over the high-water mark.
            if read_open
                && !transport.is_closing()
                && transport.get_write_buffer_size() <= WRITE_HIGH_WATER
            {
                return match stream::poll_read(io, cx, &mut rbuf) {
                    Poll::Ready(Ok(0)) => Poll::Ready(Step::Eof),
                    Poll::Ready(Ok(n)) => Poll::Ready(Step::Data(n)),
                    Poll::Ready(Err(e)) => Poll::Ready(Step::Failed(e)),
                    Poll::Pending => Poll::Pending,
                };
            }
            Poll::Pending
        })
        .await;
        match step {
            Step::Data(n) => life.proto.data_received(&rbuf[..n], &transport),
            Step::Eof => {
                read_open = false;
                if !life.proto.eof_received(&transport) {
                    transport.close();
                }
            }
            Step::Closed => break None,
            Step::Failed(e) => break Some(e),
        }
    };
    {
        let mut st = transport.lock();
        st.closing = true;
        st.buf = Vec::new();
        st.in_flight = 0;
        st.waker = None;
    }
    if result.is_none() {
        let _ = stream.io_ref().get_ref().shutdown(Shutdown::Write);
    }
    drop(stream);
    life.lost(result);
}

/// Runs `fut` as a detached task of the server's runtime (dropping a `Task` detaches it).
fn spawn_detached<F: Future<Output = ()> + Send + 'static>(handle: &Handle, fut: F) {
    drop(handle.spawn(fut));
}
