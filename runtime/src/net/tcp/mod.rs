//! TCP: [`TcpListener`], [`TcpStream`] and its owned halves.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::net::{self, Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use socket2::{Domain, Protocol, Socket, Type};

use super::addr::{each_addr, ToSocketAddrs};
use super::stream;
use crate::driver::poll_evented::PollEvented;
use crate::driver::Direction;

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

impl TcpListener {
    /// Binds a listener to `addr` (with `SO_REUSEADDR`, like std and tokio, and a backlog
    /// of 1024). With several addresses, the first that binds wins.
    ///
    /// Errors: `AddrInUse` when another socket listens there, `InvalidInput` for an
    /// address that resolves to nothing.
    ///
    /// # Panics
    ///
    /// Panics outside a corio runtime.
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
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        let listener = each_addr(addr, |a| async move { bind_std(a) }).await?;
        TcpListener::from_std_nonblocking(listener, "corio::net::TcpListener::bind")
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
        TcpListener::from_std_nonblocking(listener, "corio::net::TcpListener::from_std")
    }

    #[track_caller]
    fn from_std_nonblocking(listener: net::TcpListener, what: &str) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: PollEvented::new(listener, what)?,
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
        let io = PollEvented::new(s, "corio::net::TcpListener::accept")?;
        Poll::Ready(Ok((TcpStream { io }, peer)))
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

fn bind_std(addr: SocketAddr) -> io::Result<net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}

/// A TCP connection. `Send + Sync + Unpin`; implements `futures_io::AsyncRead` and
/// `AsyncWrite`.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// use corio_runtime::net::{TcpListener, TcpStream};
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let mut client = TcpStream::connect(listener.local_addr()?).await?;
/// let (mut server, _) = listener.accept().await?;
/// client.write_all(b"ping").await?;
/// let mut buf = [0; 4];
/// server.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"ping");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct TcpStream {
    io: PollEvented<net::TcpStream>,
}

impl TcpStream {
    /// Opens a connection to `addr` (non-blocking connect; host names are resolved off the
    /// workers). With several addresses, each is tried in turn.
    ///
    /// Errors: `ConnectionRefused` when nobody listens, and whatever else the OS reports.
    ///
    /// # Panics
    ///
    /// Panics outside a corio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// use corio_runtime::net::{TcpListener, TcpStream};
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// let addr = listener.local_addr()?;
    /// let stream = TcpStream::connect(addr).await?;
    /// assert_eq!(stream.peer_addr()?, addr);
    /// drop(listener);
    /// let err = TcpStream::connect(addr).await.unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        each_addr(addr, connect_addr).await
    }

    /// Wraps a connected std stream, switching it to non-blocking mode.
    ///
    /// # Panics
    ///
    /// Panics outside a corio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let s = std::net::TcpStream::connect(l.local_addr()?)?;
    /// let s = corio_runtime::net::TcpStream::from_std(s)?;
    /// assert_eq!(s.peer_addr()?, l.local_addr()?);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(stream: net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        Ok(TcpStream {
            io: PollEvented::new(stream, "corio::net::TcpStream::from_std")?,
        })
    }

    /// Deregisters the stream and returns the std one (still non-blocking).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # let l = corio_runtime::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let s = corio_runtime::net::TcpStream::connect(l.local_addr()?).await?;
    /// let std_s = s.into_std()?;
    /// std_s.set_nonblocking(false)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<net::TcpStream> {
        Ok(self.io.into_inner())
    }

    /// Reads into `buf`; `Ok(0)` means the peer closed its write half (EOF).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let mut c = TcpStream::connect(l.local_addr()?).await?;
    /// let (mut s, _) = l.accept().await?;
    /// s.write_all(b"hi").await?;
    /// drop(s);
    /// let mut buf = [0; 8];
    /// assert_eq!(c.read(&mut buf).await?, 2);
    /// assert_eq!(c.read(&mut buf).await?, 0); // EOF
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        stream::read(&self.io, buf).await
    }

    /// Reads exactly `buf.len()` bytes; `UnexpectedEof` if the stream ends first.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let mut c = TcpStream::connect(l.local_addr()?).await?;
    /// let (mut s, _) = l.accept().await?;
    /// s.write_all(b"abc").await?;
    /// let mut buf = [0; 3];
    /// c.read_exact(&mut buf).await?;
    /// assert_eq!(&buf, b"abc");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        stream::read_exact(&self.io, buf).await
    }

    /// Writes some of `buf`, returning how many bytes were written.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let mut c = TcpStream::connect(l.local_addr()?).await?;
    /// let n = c.write(b"hello").await?;
    /// assert!(n > 0);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        stream::write(&self.io, buf).await
    }

    /// Writes all of `buf`.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let mut c = TcpStream::connect(l.local_addr()?).await?;
    /// c.write_all(b"hello").await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        stream::write_all(&self.io, buf).await
    }

    /// Flushes: a no-op (writes go straight to the kernel), kept for asyncio's `drain`.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let mut c = TcpStream::connect(l.local_addr()?).await?;
    /// c.write_all(b"x").await?;
    /// c.flush().await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Closes the write half: the peer reads EOF; reading from this side still works.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let mut c = TcpStream::connect(l.local_addr()?).await?;
    /// let (mut s, _) = l.accept().await?;
    /// c.shutdown().await?;
    /// assert_eq!(s.read(&mut [0; 4]).await?, 0);
    /// s.write_all(b"still open").await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn shutdown(&mut self) -> io::Result<()> {
        self.io.get_ref().shutdown(Shutdown::Write)
    }

    /// The remote address.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # let l = corio_runtime::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let c = corio_runtime::net::TcpStream::connect(l.local_addr()?).await?;
    /// assert_eq!(c.peer_addr()?, l.local_addr()?);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The local address.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # let l = corio_runtime::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let c = corio_runtime::net::TcpStream::connect(l.local_addr()?).await?;
    /// assert!(c.local_addr()?.ip().is_loopback());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm).
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # let l = corio_runtime::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let c = corio_runtime::net::TcpStream::connect(l.local_addr()?).await?;
    /// c.set_nodelay(true)?;
    /// assert!(c.nodelay()?);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # let l = corio_runtime::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let c = corio_runtime::net::TcpStream::connect(l.local_addr()?).await?;
    /// c.set_nodelay(false)?;
    /// assert!(!c.nodelay()?);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Splits the stream into a read half and a write half that can move to different
    /// tasks. Dropping the write half closes the write direction (like [`shutdown`]).
    ///
    /// [`shutdown`]: TcpStream::shutdown
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let c = TcpStream::connect(l.local_addr()?).await?;
    /// let (mut s, _) = l.accept().await?;
    /// let (mut rd, mut wr) = c.into_split();
    /// wr.write_all(b"x").await?;
    /// let mut b = [0; 1];
    /// s.read_exact(&mut b).await?;
    /// s.write_all(b"y").await?;
    /// rd.read_exact(&mut b).await?;
    /// assert_eq!(&b, b"y");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let inner = Arc::new(self);
        (
            OwnedReadHalf {
                inner: inner.clone(),
            },
            OwnedWriteHalf {
                inner,
                shutdown_on_drop: true,
            },
        )
    }
}

impl TcpStream {
    pub(crate) fn io_ref(&self) -> &PollEvented<net::TcpStream> {
        &self.io
    }
}

async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    let res = socket.connect(&addr.into());
    let std_stream: net::TcpStream = socket.into();
    const WHAT: &str = "corio::net::TcpStream::connect";
    let io = if res.is_ok() {
        PollEvented::new(std_stream, WHAT)?
    } else {
        PollEvented::new_connecting(std_stream, WHAT)?
    };
    if let Err(e) = res {
        stream::finish_connect(&io, e, |s| s.take_error(), |s| s.peer_addr().is_ok()).await?;
    }
    Ok(TcpStream { io })
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}

impl futures_io::AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_read(&self.io, cx, buf)
    }
}

impl futures_io::AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_write(&self.io, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        stream::poll_write_vectored(&self.io, cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.io.get_ref().shutdown(Shutdown::Write))
    }
}

/// The read half of a [`TcpStream`], from [`TcpStream::into_split`].
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// # use corio_runtime::net::{TcpListener, TcpStream};
/// # let l = TcpListener::bind("127.0.0.1:0").await?;
/// let (mut rd, _wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
/// let (mut s, _) = l.accept().await?;
/// s.write_all(b"z").await?;
/// let mut b = [0; 1];
/// assert_eq!(rd.read(&mut b).await?, 1);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct OwnedReadHalf {
    inner: Arc<TcpStream>,
}

/// The write half of a [`TcpStream`], from [`TcpStream::into_split`]. Dropping it closes
/// the write direction.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// # use corio_runtime::net::{TcpListener, TcpStream};
/// # let l = TcpListener::bind("127.0.0.1:0").await?;
/// let (_rd, wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
/// let (mut s, _) = l.accept().await?;
/// drop(wr); // closes the write direction
/// assert_eq!(s.read(&mut [0; 1]).await?, 0);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct OwnedWriteHalf {
    inner: Arc<TcpStream>,
    shutdown_on_drop: bool,
}

impl OwnedReadHalf {
    /// Reads into `buf`; `Ok(0)` at EOF. See [`TcpStream::read`].
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (mut rd, _wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
    /// drop(l.accept().await?); // the server side closes at once
    /// assert_eq!(rd.read(&mut [0; 8]).await?, 0);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        stream::read(&self.inner.io, buf).await
    }

    /// Reads exactly `buf.len()` bytes. See [`TcpStream::read_exact`].
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (mut rd, _wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
    /// l.accept().await?.0.write_all(b"ab").await?;
    /// let mut b = [0; 2];
    /// rd.read_exact(&mut b).await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        stream::read_exact(&self.inner.io, buf).await
    }

    /// The remote address.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (rd, _wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
    /// assert_eq!(rd.peer_addr()?, l.local_addr()?);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// The local address.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (rd, _wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
    /// assert!(rd.local_addr()?.ip().is_loopback());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl OwnedWriteHalf {
    /// Writes some of `buf`. See [`TcpStream::write`].
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (_rd, mut wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
    /// assert!(wr.write(b"abc").await? > 0);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        stream::write(&self.inner.io, buf).await
    }

    /// Writes all of `buf`. See [`TcpStream::write_all`].
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (_rd, mut wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
    /// wr.write_all(b"abc").await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        stream::write_all(&self.inner.io, buf).await
    }

    /// A no-op flush. See [`TcpStream::flush`].
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (_rd, mut wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
    /// wr.flush().await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Closes the write direction now. See [`TcpStream::shutdown`].
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (_rd, mut wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
    /// let (mut s, _) = l.accept().await?;
    /// wr.shutdown().await?;
    /// assert_eq!(s.read(&mut [0; 1]).await?, 0);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn shutdown(&mut self) -> io::Result<()> {
        self.shutdown_on_drop = false;
        self.inner.io.get_ref().shutdown(Shutdown::Write)
    }

    /// The remote address.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (_rd, wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
    /// assert_eq!(wr.peer_addr()?, l.local_addr()?);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// The local address.
    ///
    /// # Examples
    ///
    /// ```
    /// # corio_runtime::run(async {
    /// # use corio_runtime::net::{TcpListener, TcpStream};
    /// # let l = TcpListener::bind("127.0.0.1:0").await?;
    /// let (_rd, wr) = TcpStream::connect(l.local_addr()?).await?.into_split();
    /// assert!(wr.local_addr()?.ip().is_loopback());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            let _ = self.inner.io.get_ref().shutdown(Shutdown::Write);
        }
    }
}

impl fmt::Debug for OwnedReadHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedReadHalf").field(&*self.inner).finish()
    }
}

impl fmt::Debug for OwnedWriteHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedWriteHalf").field(&*self.inner).finish()
    }
}

impl futures_io::AsyncRead for OwnedReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_read(&self.inner.io, cx, buf)
    }
}

impl futures_io::AsyncWrite for OwnedWriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_write(&self.inner.io, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        stream::poll_write_vectored(&self.inner.io, cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.shutdown_on_drop = false;
        Poll::Ready(self.inner.io.get_ref().shutdown(Shutdown::Write))
    }
}
