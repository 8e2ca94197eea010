//! The TCP listener: [`TcpListener`] binds, accepts and hands out [`TcpStream`]s.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{self, SocketAddr};
use std::panic::Location;
use std::task::{Context, Poll};

use socket2::{Domain, Protocol, Socket, Type};

use super::TcpStream;
use crate::driver::poll_evented::PollEvented;
use crate::driver::{Direction, Driver};
use crate::lazy;
use crate::loom::Arc;
use crate::net::addr::{each_addr, ToSocketAddrs};
use crate::net::ServerOptions;

/// A TCP socket server, listening for connections.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::net::{TcpListener, TcpStream};
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// let client = TcpStream::connect(addr).await?;
/// let (server_side, peer) = listener.accept().await?;
/// assert_eq!(peer, client.local_addr()?);
/// # drop(server_side);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct TcpListener {
    io: PollEvented<net::TcpListener>,
}

crate::net::impl_as_fd!(TcpListener);

impl TcpListener {
    /// Binds a listener to `addr` (with `SO_REUSEADDR`, like std and tokio, and a backlog
    /// of 1024). With several addresses, the first that binds wins.
    ///
    /// Errors: `AddrInUse` when another socket listens there, `InvalidInput` for an
    /// address that resolves to nothing.
    ///
    /// Lazy, like every corio future: nothing happens until it is awaited, and the
    /// listener belongs to the runtime that first polls the future.
    ///
    /// # Panics
    ///
    /// Polling the future outside a corio runtime panics before any socket is created;
    /// the message names the line that called `bind`. Building it never panics.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::net::TcpListener;
    /// let a = TcpListener::bind("127.0.0.1:0").await?;
    /// let err = TcpListener::bind(a.local_addr()?).await.unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    #[track_caller]
    pub fn bind<A: ToSocketAddrs>(addr: A) -> impl Future<Output = io::Result<TcpListener>> {
        let created = Location::caller();
        async move {
            let driver = lazy::driver("corio::net::TcpListener::bind", created);
            TcpListener::bind_on(driver, addr, &ServerOptions::new()).await
        }
    }

    /// [`TcpListener::bind`] with [`ServerOptions`], e.g. `SO_REUSEPORT` so that several
    /// listeners (in this process or others) share one port.
    ///
    /// Lazy like [`TcpListener::bind`]: nothing happens until it is awaited.
    ///
    /// # Panics
    ///
    /// Polling the future outside a corio runtime panics before any socket is created.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::net::{ServerOptions, TcpListener};
    /// let opts = ServerOptions::new().reuse_port(true);
    /// let a = TcpListener::bind_with("127.0.0.1:0", opts.clone()).await?;
    /// let b = TcpListener::bind_with(a.local_addr()?, opts).await?;
    /// assert_eq!(a.local_addr()?.port(), b.local_addr()?.port());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    #[track_caller]
    pub fn bind_with<A: ToSocketAddrs>(
        addr: A,
        opts: ServerOptions,
    ) -> impl Future<Output = io::Result<TcpListener>> {
        let created = Location::caller();
        async move {
            let driver = lazy::driver("corio::net::TcpListener::bind_with", created);
            TcpListener::bind_on(driver, addr, &opts).await
        }
    }

    /// [`TcpListener::bind_with`] on the runtime of `driver`.
    pub(crate) async fn bind_on<A: ToSocketAddrs>(
        driver: Arc<Driver>,
        addr: A,
        opts: &ServerOptions,
    ) -> io::Result<TcpListener> {
        let listener = each_addr(addr, |a| async move { bind_std(a, opts) }).await?;
        Ok(TcpListener {
            io: PollEvented::with_driver(driver, listener)?,
        })
    }

    /// Wraps a std listener (e.g. inherited or configured with socket2), switching it to
    /// non-blocking mode.
    ///
    /// # Panics
    ///
    /// Panics outside a corio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let listener = corio_runtime::net::TcpListener::from_std(std_listener)?;
    /// assert!(listener.local_addr()?.port() != 0);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(listener: net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: PollEvented::new(listener, "corio::net::TcpListener::from_std")?,
        })
    }

    /// Deregisters the listener and returns the std one (still in non-blocking mode; call
    /// `set_nonblocking(false)` to use it blockingly).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let l = corio_runtime::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let addr = l.local_addr()?;
    /// let std_l = l.into_std()?;
    /// assert_eq!(std_l.local_addr()?, addr);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<net::TcpListener> {
        Ok(self.io.into_inner())
    }

    /// Accepts a connection: the new stream and the peer's address.
    ///
    /// Errors such as `EMFILE` (out of file descriptors) are returned as they are; the
    /// listener stays usable, so a server loop can back off and accept again.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::net::{TcpListener, TcpStream};
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// let _c = TcpStream::connect(listener.local_addr()?).await?;
    /// let (stream, peer) = listener.accept().await?;
    /// assert_eq!(stream.peer_addr()?, peer);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for an incoming connection (the building block of [`TcpListener::accept`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::net::{TcpListener, TcpStream};
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// let _c = TcpStream::connect(listener.local_addr()?).await?;
    /// let (_s, _peer) = std::future::poll_fn(|cx| listener.poll_accept(cx)).await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (s, peer) = std::task::ready!(self.io.poll_io(cx, Direction::Read, |l| l.accept()))?;
        s.set_nonblocking(true)?;
        // The connection belongs to the listener's runtime, whoever polls.
        let io = PollEvented::with_driver(self.io.driver().clone(), s)?;
        Poll::Ready(Ok((TcpStream::from_evented(io), peer)))
    }

    /// The address the listener is bound to.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let l = corio_runtime::net::TcpListener::bind("127.0.0.1:0").await?;
    /// assert!(l.local_addr()?.ip().is_loopback());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

fn bind_std(addr: SocketAddr, opts: &ServerOptions) -> io::Result<net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    if opts.reuse_port {
        set_reuse_port(&socket)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

#[cfg(all(
    unix,
    not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
))]
fn set_reuse_port(socket: &Socket) -> io::Result<()> {
    socket.set_reuse_port(true)
}

#[cfg(not(all(
    unix,
    not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
)))]
fn set_reuse_port(_socket: &Socket) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "SO_REUSEPORT is not available on this platform",
    ))
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}
